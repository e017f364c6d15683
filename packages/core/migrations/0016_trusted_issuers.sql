CREATE TABLE "trusted_issuers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"issuer" text NOT NULL,
	"audience" text NOT NULL,
	"jwks_url" text,
	"scope_claim" text,
	"scopes" text[],
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "trusted_issuers" ADD CONSTRAINT "trusted_issuers_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "trusted_issuers_issuer_audience_idx" ON "trusted_issuers" USING btree ("issuer","audience");--> statement-breakpoint
CREATE INDEX "trusted_issuers_project_id_idx" ON "trusted_issuers" USING btree ("project_id");