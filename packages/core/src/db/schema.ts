export * from "../apikey/apikey.sql";
export * from "../project/project.sql";
