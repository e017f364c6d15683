export * as ApiKey from "./apikey";
export * as Clock from "./clock";
export * as Database from "./db";
export { AppError, type Reason, reasons } from "./error";
export * as Log from "./log";
export * as Project from "./project";
