# Figures (issue 6): GET /api/v1/figures per worker, service, provider and day, over
# loopback against a real carefactd and a private PostgreSQL.
if(TARGET carefactd)
  add_executable(test_integration_figures ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_figures.c)
  target_link_libraries(test_integration_figures PRIVATE cf_test_support PkgConfig::CMOCKA m)
  add_dependencies(test_integration_figures carefactd)
  cf_add_test(NAME integration.backend.figures LABEL integration TIMEOUT 180
    COMMAND test_integration_figures)
  cf_contract_record(integration.backend.figures)
endif()
