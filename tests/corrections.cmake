# Visit corrections and the recipient's statement (issue 6), over loopback against a
# real carefactd and a private PostgreSQL. Every exchange is recorded and checked
# against api/openapi.yaml afterwards (integration.backend.contract).
if(TARGET carefactd)
  add_executable(test_integration_corrections
                 ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_corrections.c)
  target_link_libraries(test_integration_corrections PRIVATE cf_test_support cf_shared
                        PkgConfig::CMOCKA)
  add_dependencies(test_integration_corrections carefactd)
  cf_add_test(NAME integration.backend.corrections LABEL integration TIMEOUT 180
    COMMAND test_integration_corrections)
  cf_contract_record(integration.backend.corrections)
endif()
