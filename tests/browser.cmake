# Browser tests (label browser) of the manager dashboard and of the terminal's touch UI
# (carefact-agentd, agent/ui; axe-core on every screen): Playwright from
# tests/browser/node_modules (tools/deps runs npm ci there) driving /usr/bin/chromium
# headless against the real carefactd, PostgreSQL, agent and PN532 emulator.
# Screenshots are kept in <build>/tests/browser-artifacts.
# The citizen's booking page (issue 16): hold, confirm, cancel; needs carefactd only.
if(TARGET carefactd)
  cf_add_test(NAME browser.booking.hold_confirm LABEL browser TIMEOUT 180
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/booking.sh)
  # Satisfaction (issue 16): a survey answered on the public page; the satisfaction
  # page's met / not met / not enough answers against bounds the test computes.
  cf_add_test(NAME browser.satisfaction.survey_and_statuses LABEL browser TIMEOUT 180
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/satisfaction.sh)
  # The desk's day (issue 16, sql/0033): states, live waiting, staff check-in, exceptions.
  cf_add_test(NAME browser.desk.day LABEL browser TIMEOUT 180
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/desk.sh)
  # Complaints and the citizens' comparison of providers (issue 16); carefactd only.
  cf_add_test(NAME browser.complaints.low_rating_compare LABEL browser TIMEOUT 180
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/complaints.sh)
  # Mobile brigade trips (issue 16): planned, booked, announced in the dashboard; the
  # citizens' schedule; carefactd only.
  cf_add_test(NAME browser.brigades.plan_book_announce LABEL browser TIMEOUT 180
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/brigades.sh)
endif()
if(NOT TARGET carefactd OR NOT TARGET ag_core OR NOT TARGET pn532-sim)
  return()
endif()
cf_add_test(NAME browser.dashboard.live_visit LABEL browser TIMEOUT 300
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/dashboard.sh)
cf_add_test(NAME browser.touch.offline_day LABEL browser TIMEOUT 400
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/touch.sh)
cf_add_test(NAME browser.applications.office_to_plans LABEL browser TIMEOUT 300
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/applications.sh)
