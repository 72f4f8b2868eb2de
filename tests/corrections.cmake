# Visit corrections and the recipient's statement (issue 6), over loopback against a
# real carefactd and a private PostgreSQL. Every exchange is recorded and checked
# against api/openapi.yaml afterwards (tests/contract/validate.mjs), as for ingest.
if(TARGET carefactd)
  add_executable(test_integration_corrections
                 ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_corrections.c)
  target_link_libraries(test_integration_corrections PRIVATE cf_test_support cf_shared
                        PkgConfig::CMOCKA)
  add_dependencies(test_integration_corrections carefactd)
  set(CF_CORRECTIONS_LOG ${CMAKE_BINARY_DIR}/contract/corrections.jsonl)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/contract)
  add_test(NAME integration.backend.corrections_reset
    COMMAND ${CMAKE_COMMAND} -E rm -f ${CF_CORRECTIONS_LOG})
  set_tests_properties(integration.backend.corrections_reset PROPERTIES LABELS integration
    FIXTURES_SETUP corrections_recording)
  cf_add_test(NAME integration.backend.corrections LABEL integration TIMEOUT 180
    COMMAND test_integration_corrections ENVIRONMENT CF_CONTRACT_LOG=${CF_CORRECTIONS_LOG})
  set_tests_properties(integration.backend.corrections PROPERTIES
    FIXTURES_REQUIRED corrections_recording FIXTURES_SETUP corrections_recorded)
  cf_add_test(NAME integration.backend.corrections_contract LABEL integration TIMEOUT 120
    COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/contract/validate.mjs
            ${CMAKE_SOURCE_DIR}/api/openapi.yaml ${CF_CORRECTIONS_LOG})
  set_tests_properties(integration.backend.corrections_contract PROPERTIES
    FIXTURES_REQUIRED corrections_recorded)
endif()
