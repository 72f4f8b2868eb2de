# The private-PostgreSQL helper every database test relies on.
cf_add_test(NAME integration.tools.pg LABEL integration TIMEOUT 180
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_pg_helper.sh)
