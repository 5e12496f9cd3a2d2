# Trino client protocol front-end.
target_sources(lakerouter_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/trino_frontend.cpp
)
