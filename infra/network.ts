// The VPC the database lives in, and with it every function that links the database. Two AZs.
//
// NAT: functions in private subnets reach SES, SNS, SQS and S3 through it (SST's Vpc has no NAT by
// default). Which kind is the stage's profile (infra/settings.ts `profiles`, PREGON_NAT):
// - `managed` (production): a NAT gateway per AZ, which AWS keeps running (about $65.70/month for
//   two, plus data processed);
// - `ec2` (other stages): an fck-nat t4g.nano instance per AZ (about $6/month for two, plus their
//   public IPv4 addresses). Each is the only way out of its AZ's private subnet: while it is down,
//   the functions running in that AZ cannot reach SES, SNS, SQS or S3. infra/alarms.ts watches each
//   (EC2 status checks: recover on a host failure, reboot on an instance failure, and notify).
// Interface endpoints for SES, SNS and SQS would cost about $7.30/month each per AZ; S3's gateway
// endpoint alone would not do. docs/deploy.md has the arithmetic.
//
// The bastion (`sst tunnel`, which `npm run pregon` under `sst shell` needs) reuses a NAT instance
// where there is one, else is an instance of its own.
//
// `sst dev` makes none of it: there the database is the local stack's and the functions run on the
// developer's machine, so nothing needs a private subnet, a way out of one or a tunnel into it (a
// live function's stub outside the VPC reaches SST's AppSync directly).
import { deployConfig } from "./config";

export const vpc = $dev
  ? undefined
  : new sst.aws.Vpc("Vpc", { nat: deployConfig.nat, bastion: true });
