// The stage's configuration (environment variables at deploy time; SST loads `.env`) and secrets.
import { readDeployConfig } from "./settings";

const { config, problems } = readDeployConfig(process.env, $app.stage);
if (problems.length) {
  throw new Error(`Pregón deploy configuration (docs/deploy.md):\n  ${problems.join("\n  ")}`);
}
export const deployConfig = config;

/** The secret of the HMACs that stand for OTP codes, destinations and IPs (32+ characters). */
export const otpPepper = new sst.Secret("OtpPepper");
