# Security tests (label security): accounts, sessions, authorisation by role and
# provider (in carefactd and in PostgreSQL), device authentication, audit, privacy.
if(TARGET carefactd)
  add_executable(test_security_auth ${CMAKE_CURRENT_SOURCE_DIR}/security/test_auth.c)
  target_link_libraries(test_security_auth PRIVATE cf_test_support PkgConfig::CMOCKA
                        PkgConfig::LIBPQ PkgConfig::CJSON)
  add_dependencies(test_security_auth carefactd)
  cf_add_test(NAME security.auth LABEL security TIMEOUT 300 COMMAND test_security_auth)
endif()

# Privacy: an end-to-end visit, then no PAN in the dump, logs or the agent's store.
if(TARGET ag_core AND TARGET carefactd AND TARGET pn532-sim)
  cf_add_test(NAME security.privacy_no_pan LABEL security TIMEOUT 300
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/security/privacy.sh)
endif()

# The catalogue: row-level security and a policy on every provider table, security-invoker
# views, and carefact_app holding exactly the privileges the migrations grant it.
if(TARGET carefactd)
  cf_add_test(NAME security.catalogue LABEL security TIMEOUT 120
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/security/catalogue.sh)
endif()
