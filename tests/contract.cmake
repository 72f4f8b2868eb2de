# Contract tests (label contract): api/openapi.yaml as an integrator meets it. The lint
# (Redocly CLI's recommended rules and api/redocly.yaml, 0 errors and 0 warnings; the
# examples and the problem catalogue) needs only Node and tests/contract's npm packages;
# the generated client's scenario runs against the real carefactd and PostgreSQL, with
# visits a test terminal uploaded (carefact-loadgen). The check of every recorded answer
# against the contract is integration.backend.contract (integration.cmake).
cf_add_test(NAME contract.lint LABEL contract TIMEOUT 120
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/contract/lint.sh)

if(NOT TARGET carefactd OR NOT TARGET carefact-loadgen)
  return()
endif()
cf_add_test(NAME contract.client LABEL contract TIMEOUT 300
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/contract/client.sh)
