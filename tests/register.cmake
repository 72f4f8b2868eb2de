# Payment register (issue 6): the CSV writer and id parsers (unit, no database), and the
# register API over loopback against a real carefactd and a private PostgreSQL, with
# visits seeded as signed event batches.
if(TARGET carefactd)
  cf_add_unit_test(backend register_csv be_core)
  add_executable(test_integration_register ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_register.c)
  target_link_libraries(test_integration_register PRIVATE cf_test_support cf_shared
                        PkgConfig::CMOCKA)
  add_dependencies(test_integration_register carefactd)
  cf_add_test(NAME integration.backend.register LABEL integration TIMEOUT 240
    COMMAND test_integration_register)
  cf_contract_record(integration.backend.register)
endif()
