#!/usr/bin/env Rscript
# Times one reference snippet on the benchmark data written by scripts/bench/run.ts.
# Usage: Rscript runner.R DATA_DIR CODE_FILE [BUDGET_SECONDS]
# The snippet sees X (n x p matrix), y (integer labels 0.. or numeric values) or time / event.
# Only the method code is timed: library()/require() calls run once before timing. Timing rule as
# runner.py: one run; if under 1 s, more runs within the budget (up to 20 when the first took
# under 0.1 s, else 5) and their median.
# Prints one JSON object: {"seconds": median wall, "cpuSeconds": median CPU, "runs": k}.
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[[1]]
code_file <- args[[2]]
budget <- if (length(args) > 2) as.numeric(args[[3]]) else 10

meta_lines <- strsplit(readLines(file.path(data_dir, "meta.txt")), " ")
meta <- setNames(lapply(meta_lines, `[[`, 2), vapply(meta_lines, `[[`, "", 1))
n <- as.integer(meta$n)
p <- as.integer(meta$p)
read_f64 <- function(name, count) readBin(file.path(data_dir, name), "double", count, size = 8, endian = "little")
data_env <- new.env()
data_env$X <- matrix(read_f64("X.f64", n * p), nrow = n, ncol = p, byrow = TRUE)
if (meta$task == "survival") {
  data_env$time <- read_f64("time.f64", n)
  data_env$event <- as.integer(read_f64("event.f64", n))
} else {
  y <- read_f64("y.f64", n)
  data_env$y <- if (meta$task %in% c("binary", "multiclass")) as.integer(y) else y
}

exprs <- parse(file = code_file)
is_setup <- vapply(exprs, function(e) {
  is.call(e) && as.character(e[[1]])[1] %in% c("library", "require", "suppressPackageStartupMessages")
}, logical(1))
for (e in exprs[is_setup]) eval(e, globalenv())
body <- exprs[!is_setup]

once <- function() {
  env <- new.env(parent = data_env)
  t0 <- proc.time()
  for (e in body) eval(e, env)
  d <- proc.time() - t0
  c(d[["elapsed"]], d[["user.self"]] + d[["sys.self"]] + d[["user.child"]] + d[["sys.child"]])
}

first <- once()
runs <- matrix(first, ncol = 2)
if (first[1] < 1) {
  max_runs <- if (first[1] < 0.1) 20 else 5
  extra <- matrix(numeric(0), ncol = 2)
  while (nrow(extra) < max_runs && first[1] + sum(extra[, 1]) < budget) extra <- rbind(extra, once())
  runs <- extra
}
cat(sprintf('{"seconds": %.9g, "cpuSeconds": %.9g, "runs": %d}\n', median(runs[, 1]), median(runs[, 2]), nrow(runs)))
