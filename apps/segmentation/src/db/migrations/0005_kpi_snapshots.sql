CREATE TABLE "segmentation"."kpi_snapshots" (
	"segment_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"metrics" jsonb NOT NULL,
	CONSTRAINT "kpi_snapshots_segment_id_at_pk" PRIMARY KEY("segment_id","at")
);
