# Backend tests: the reusable harness (private PostgreSQL + real carefactd) and the
# integration tests over loopback HTTP.
if(TARGET carefactd)
  add_library(cf_test_support STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/harness.c
              ${CMAKE_CURRENT_SOURCE_DIR}/support/api_check.c)
  target_include_directories(cf_test_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(cf_test_support PUBLIC cf_shared PkgConfig::LIBCURL PkgConfig::LIBPQ
                        PkgConfig::CMOCKA
                        PkgConfig::CJSON)

  add_executable(test_integration_ingest ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_ingest.c)
  find_package(Threads REQUIRED)
  target_link_libraries(test_integration_ingest PRIVATE cf_test_support cf_shared PkgConfig::CMOCKA
                        Threads::Threads)
  add_dependencies(test_integration_ingest carefactd)

  # The contract check: every HTTP exchange of the integration tests that call
  # cf_contract_record() is recorded (tests/support/harness.c) and validated against
  # api/openapi.yaml once they have all run. Each run starts fresh recordings.
  set(CF_CONTRACT_DIR ${CMAKE_BINARY_DIR}/contract)
  file(MAKE_DIRECTORY ${CF_CONTRACT_DIR})
  add_test(NAME integration.backend.contract_reset
    COMMAND sh -c "rm -f '${CF_CONTRACT_DIR}'/*.jsonl")
  set_tests_properties(integration.backend.contract_reset PROPERTIES LABELS integration
    FIXTURES_SETUP contract_recording)
  function(cf_contract_record test)
    set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT
                 CF_CONTRACT_LOG=${CF_CONTRACT_DIR}/${test}.jsonl)
    set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED contract_recording)
    set_property(TEST ${test} APPEND PROPERTY FIXTURES_SETUP contract_recorded)
  endfunction()
  cf_add_test(NAME integration.backend.contract LABEL integration TIMEOUT 120
    COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/contract/validate.mjs
            ${CMAKE_SOURCE_DIR}/api/openapi.yaml ${CF_CONTRACT_DIR})
  set_tests_properties(integration.backend.contract PROPERTIES FIXTURES_REQUIRED contract_recorded)

  cf_add_test(NAME integration.backend.ingest LABEL integration TIMEOUT 300
    COMMAND test_integration_ingest)
  cf_contract_record(integration.backend.ingest)

  add_test(NAME integration.backend.routes_match_spec
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_routes_spec.sh)
  set_tests_properties(integration.backend.routes_match_spec PROPERTIES LABELS integration
    TIMEOUT 60 ENVIRONMENT "CF_SOURCE_DIR=${CMAKE_SOURCE_DIR};CF_BINARY_DIR=${CMAKE_BINARY_DIR}")
endif()

if(TARGET carefactd)
  cf_add_unit_test(backend router be_core)
  add_executable(test_integration_edge ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_edge.c)
  target_link_libraries(test_integration_edge PRIVATE cf_test_support PkgConfig::CMOCKA)
  add_dependencies(test_integration_edge carefactd)
  cf_add_test(NAME integration.backend.edge LABEL integration TIMEOUT 180
    COMMAND test_integration_edge)

  cf_add_test(NAME integration.backend.server_ops LABEL integration TIMEOUT 180
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_server_ops.sh)
endif()
