# Manager review API (issue 6): live visits, the exception queue and resolutions,
# over loopback against a real carefactd and a private PostgreSQL.
if(TARGET carefactd)
  add_executable(test_integration_review ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_review.c)
  target_link_libraries(test_integration_review PRIVATE cf_test_support PkgConfig::CMOCKA)
  add_dependencies(test_integration_review carefactd)
  cf_add_test(NAME integration.backend.review LABEL integration TIMEOUT 180
    COMMAND test_integration_review)
  cf_contract_record(integration.backend.review)
endif()
