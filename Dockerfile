# API and CPU worker image: slim Node 20 on Debian 12. The GPU worker has its own image
# (Dockerfile.gpu) because its native TensorFlow binary needs CUDA and a newer libstdc++.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# curl: container healthchecks against /ready.
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/bin ./bin
USER node
EXPOSE 4000
CMD ["node", "dist/src/main.js"]
