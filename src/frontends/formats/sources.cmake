# Result encoders beyond JSON: NDJSON, CSV, Arrow IPC, Parquet; the async result spill.
target_sources(lakerouter_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/result_encoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/csv_encoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/arrow_encoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/result_spill.cpp
)
target_link_libraries(lakerouter_lib PRIVATE parquet)
