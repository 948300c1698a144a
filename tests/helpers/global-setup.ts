/** Starts the real services the integration tests use (filled in by the platform work). */
export default async function globalSetup(): Promise<void> {}
