# Telemetry: the history store (SQLite) and the audit log.
target_sources(lakerouter_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/audit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/history_store.cpp
)
target_link_libraries(lakerouter_lib PRIVATE SQLite::SQLite3)
