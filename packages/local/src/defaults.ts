// Environment defaults of `npm start`, set before any module reads them (main.ts imports this
// first). Each can still be overridden from the shell.

// EMF metric lines are for CloudWatch; locally they are noise unless asked for.
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
// Powertools' dev mode: log entries as indented JSON, readable in a terminal.
process.env.POWERTOOLS_DEV ??= "true";
