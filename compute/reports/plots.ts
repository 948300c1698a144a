import { type ReportInput } from './types';

export interface Plot {
  name: string;
  svg: string;
}

export function plotsFor(_input: ReportInput): Plot[] {
  return [];
}
