CREATE TABLE "templates" (
	"project_id" uuid NOT NULL,
	"key" text NOT NULL,
	"locale" text NOT NULL,
	"version" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "templates_project_id_key_locale_pk" PRIMARY KEY("project_id","key","locale")
);
