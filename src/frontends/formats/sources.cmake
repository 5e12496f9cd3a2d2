# Result encoders beyond JSON: NDJSON, CSV, Arrow IPC, Parquet.
target_sources(lakerouter_lib PRIVATE
)
