// The VPC the database lives in, and with it every function that links the database.
//
// NAT: functions in private subnets reach SES, SNS, SQS and S3 through it (SST's Vpc has no NAT
// by default). `ec2` is an fck-nat t4g.nano instance per AZ (about $6/month for two, plus their
// public IPv4 addresses) instead of a managed NAT gateway per AZ (about $65/month); interface
// endpoints for SES, SNS and SQS would cost about $7.30/month each per AZ, more than the NAT
// instances, and S3's gateway endpoint alone would not do. docs/deploy.md has the arithmetic.
//
// The bastion reuses a NAT instance (no extra cost): `sst tunnel` reaches the database through it,
// which `npm run pregon` under `sst shell` needs.
export const vpc = new sst.aws.Vpc("Vpc", { nat: "ec2", bastion: true });
