# PostgreSQL wire protocol front-end.
target_sources(lakerouter_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/pg_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_copy.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_protocol.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_scram.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pg_values.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pgwire_server.cpp
)
target_link_libraries(lakerouter_lib PRIVATE OpenSSL::SSL)
