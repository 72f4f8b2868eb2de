# Security tests (label security): accounts, sessions, authorisation by role and
# provider (in carefactd and in PostgreSQL), device authentication, audit, the
# dashboard's files and stream, privacy.
if(NOT TARGET carefactd)
  return()
endif()

cf_add_server_test(NAME security.auth LABEL security TIMEOUT 300 CONTRACT
                   SOURCE security/test_auth.c)
# Terminals and the live stream: deactivation revokes, device revocation and list, the
# stream scoped to the subscriber's provider and capped per person.
cf_add_server_test(NAME security.devices LABEL security TIMEOUT 300 CONTRACT
                   SOURCE security/test_devices.c)

# The dashboard's files and stream over curl: content types, ETag/304, no path leaves the
# web folder, the stream cap (the script lives beside the browser tests it serves).
if(TARGET ag_core AND TARGET pn532-sim)
  cf_add_test(NAME security.web.static_and_stream LABEL security TIMEOUT 120
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/web_static.sh)
endif()

# Privacy: an end-to-end visit, then no PAN in the dump, logs or the agent's store.
if(TARGET ag_core AND TARGET pn532-sim)
  cf_add_test(NAME security.privacy_no_pan LABEL security TIMEOUT 300
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/security/privacy.sh)
endif()

# The catalogue: row-level security and a policy on every provider table, security-invoker
# views, and carefact_app holding exactly the privileges the migrations grant it.
if(TARGET carefactd)
  cf_add_test(NAME security.catalogue LABEL security TIMEOUT 120
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/security/catalogue.sh)
endif()

# The touch UI's daemon (carefact-agentd): each rule of its local security model over
# curl (127.0.0.1 only, the per-start secret, Host, Origin, Sec-Fetch-Site, JSON and
# X-Carefact-UI on a POST, no CORS).
if(TARGET carefactd AND TARGET ag_core AND TARGET pn532-sim)
  cf_add_test(NAME security.agentd_local LABEL security TIMEOUT 120
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/security/agentd_local.sh)
endif()
