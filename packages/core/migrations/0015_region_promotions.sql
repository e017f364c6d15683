CREATE TABLE "region_promotions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"region" text NOT NULL,
	"promoted_at" timestamp with time zone NOT NULL
);
