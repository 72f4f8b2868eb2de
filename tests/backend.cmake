# Backend tests: the reusable harness (private PostgreSQL + real carefactd) and the
# integration tests over loopback HTTP.
if(TARGET carefactd)
  add_library(cf_test_support STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/harness.c)
  target_include_directories(cf_test_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(cf_test_support PUBLIC PkgConfig::LIBCURL PkgConfig::LIBPQ)

  add_executable(test_integration_ingest ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_ingest.c)
  target_link_libraries(test_integration_ingest PRIVATE cf_test_support cf_shared PkgConfig::CMOCKA)
  add_dependencies(test_integration_ingest carefactd)
  cf_add_test(NAME integration.backend.ingest LABEL integration TIMEOUT 300
    COMMAND test_integration_ingest)

  add_test(NAME integration.backend.routes_match_spec
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_routes_spec.sh)
  set_tests_properties(integration.backend.routes_match_spec PROPERTIES LABELS integration
    TIMEOUT 60 ENVIRONMENT "CF_SOURCE_DIR=${CMAKE_SOURCE_DIR};CF_BINARY_DIR=${CMAKE_BINARY_DIR}")
endif()
