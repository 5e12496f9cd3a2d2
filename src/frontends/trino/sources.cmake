# Trino client protocol front-end.
target_sources(lakerouter_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/trino_encoding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/trino_frontend.cpp
  ${CMAKE_CURRENT_LIST_DIR}/trino_params.cpp
  ${CMAKE_CURRENT_LIST_DIR}/trino_query.cpp
  ${CMAKE_CURRENT_LIST_DIR}/trino_request.cpp
)
