/* Every sentence the worker sees, in Russian, in one table: one sentence per
 * outcome (error) code, and every screen text, prompt, progress line and word of the
 * terminal and the command line, by name. Code shows a text by its name (a string
 * literal, so printf formats are still checked by the compiler); messages.c maps
 * outcome codes to theirs and lists every text for the tests
 * (tests/unit/agent/test_messages.c: each has Cyrillic, and no Russian literal
 * lives anywhere else in agent/src). Stable machine names come from cf_error_name
 * (cf/error.h). A new text goes here, under its screen, and into ag_texts in
 * messages.c. */
#ifndef AG_MESSAGES_H
#define AG_MESSAGES_H

#include <stddef.h>

/* Never NULL; a code without its own sentence gets a general one. */
const char *ag_message(int code);

/* The Russian word form for a count: ag_plural(n, "событие", "события", "событий")
 * gives "событие" for 1, 21..., "события" for 2-4, 22-24..., "событий" otherwise. */
const char *ag_plural(unsigned long long n, const char *one, const char *few, const char *many);

/* Every text below by name, for the tests that hold the table to its rules. */
struct ag_text {
    const char *name; /* "AG_MSG_..." */
    const char *text;
};
extern const struct ag_text ag_texts[];
extern const size_t ag_text_count;

/* ==== Outcomes: one sentence per code (ag_message) ==== */

#define AG_MSG_OK "Готово."
#define AG_MSG_ERR_NOMEM "Не хватает памяти терминала. Перезапустите программу."
#define AG_MSG_ERR_STORE_FULL                                                                                               \
    "Нет места на устройстве: событие не записано. Освободите память " \
    "терминала (или синхронизируйте его) и повторите."
#define AG_MSG_ERR_STORE_DAMAGED                                                                   \
    "Файл хранилища повреждён. Не удаляйте его: обратитесь к администратору."
#define AG_MSG_ERR_STORE_FOREIGN "Этот файл — не хранилище carefact. Проверьте путь к хранилищу."
#define AG_MSG_ERR_STORE_VERSION                                                                   \
    "Хранилище создано более новой версией программы. Обновите программу."
#define AG_MSG_ERR_STORE_IO                                                                        \
    "Не удаётся открыть или записать хранилище. Проверьте путь и права доступа."
#define AG_MSG_ERR_STORE_BUSY                                                                      \
    "Хранилище занято другой программой. Повторите через несколько секунд."
#define AG_MSG_ERR_NOT_ENROLLED                                                                                           \
    "Терминал не зарегистрирован. Выполните регистрацию с кодом от " \
    "руководителя."
#define AG_MSG_ERR_ENROLLED "Терминал уже зарегистрирован."
#define AG_MSG_ERR_UNKNOWN_CARD                                                                                                           \
    "Карта не распознана: она не привязана ни к одному получателю. Попросите " \
    "приложить другую карту или привяжите эту карту к получателю."
#define AG_MSG_ERR_VISIT_OPEN "Уже идёт другой визит. Сначала завершите или отмените его."
#define AG_MSG_ERR_NO_VISIT "Такого визита нет (или нет визита, который сейчас идёт)."
#define AG_MSG_ERR_VISIT_STATE "Этот шаг сейчас невозможен: визит уже завершён, оценён или отменён."
#define AG_MSG_ERR_SERVICE_NOT_ALLOWED                                                                                          \
    "Эта услуга не предусмотрена сертификатом получателя или её объём " \
    "исчерпан."
#define AG_MSG_ERR_UNKNOWN_RECIPIENT                                                               \
    "Получатель не найден в данных терминала. Выполните синхронизацию."
#define AG_MSG_ERR_UNKNOWN_PLAN                                                                    \
    "Плановый визит не найден в данных терминала. Выполните синхронизацию."
#define AG_MSG_ERR_CARD_OTHER "Карта принадлежит другому получателю."
#define AG_MSG_ERR_CARD_AMBIGUOUS "Карта представителя нескольких получателей: выберите получателя."
#define AG_MSG_ERR_NETWORK                                                                                                               \
    "Нет связи с сервером. События сохранены в терминале и будут отправлены " \
    "позже."
#define AG_MSG_ERR_TLS                                                                                                                                       \
    "Сертификат сервера не совпадает с закреплённым. Данные не отправлены: обратитесь " \
    "к администратору."
#define AG_MSG_ERR_DEVICE_REFUSED                                                                                                  \
    "Сервер не принимает этот терминал (отозван или не зарегистрирован). " \
    "Обратитесь к руководителю."
#define AG_MSG_ERR_CONFLICT                                                                                                         \
    "Сервер не принял события терминала (другие события или чужой визит). " \
    "Отправка остановлена: обратитесь к администратору."
#define AG_MSG_ERR_BAD_ANSWER                                                                                                              \
    "Сервер ответил не так, как ожидалось (возможно, сеть требует входа через " \
    "браузер). События не отмечены как отправленные."
#define AG_MSG_ERR_SERVER "Сервер временно недоступен. Терминал повторит отправку позже."
#define AG_MSG_ERR_REJECTED                                                                                                            \
    "Сервер отклонил данные терминала. Отправка остановлена: обратитесь к " \
    "администратору."
#define AG_MSG_ERR_BACKOFF "Следующая попытка синхронизации ещё не наступила."
#define AG_MSG_ERR_PRUNED                                                                                                    \
    "Сервер просит события, которых в терминале уже нет. Обратитесь к " \
    "администратору."
#define AG_MSG_ERR_CHAIN                                                                                                             \
    "Цепочка событий в хранилище нарушена. Не удаляйте файл: обратитесь к " \
    "администратору."
#define AG_MSG_ERR_FIELD_RANGE "Неверное значение. Проверьте введённые данные."
#define AG_MSG_ERR_FIELD_MISSING "Не хватает обязательного значения."
#define AG_MSG_ERR_NO_CARD "Карта не приложена. Приложите карту к считывателю и повторите."
#define AG_MSG_ERR_CARD_REMOVED                                                                                                                              \
    "Карту убрали до конца чтения. Приложите карту снова и держите её, пока не появится " \
    "результат."
#define AG_MSG_ERR_READER_NOT_FOUND                                                                \
    "Считыватель не найден. Проверьте, что он подключён, и повторите."
#define AG_MSG_ERR_READER_STOPPED "Считыватель перестал отвечать. Переподключите его и повторите."
#define AG_MSG_ERR_CARD_LOCKED "Карта заблокирована. Попросите получателя приложить другую карту."
#define AG_MSG_ERR_CARD_UNKNOWN                                                                                                                               \
    "Карта не распознана: на ней нет платёжного приложения. Приложите банковскую карту " \
    "получателя."
#define AG_MSG_ERR_NOT_PAYMENT "Это не банковская карта. Приложите банковскую карту получателя."
#define AG_MSG_ERR_NO_PAN "С карты не удалось прочитать номер. Приложите другую карту получателя."
#define AG_MSG_ERR_COMM "Карта ответила с ошибкой. Приложите карту снова."

/* The sentence of a code that has none of its own. */
#define AG_MSG_READ_FAILED "Не удалось прочитать карту. Повторите попытку."

/* ==== `carefact-agent terminal`: the screens, prompts and menu ==== */

#define AG_MSG_TERM_DIGIT_RANGE "Введите цифру от 0 до %d.\n"
#define AG_MSG_TERM_WAITING " Ожидают отправки: %llu (с %s)\n"
#define AG_MSG_TERM_ALL_SENT " Все события отправлены.\n"
#define AG_MSG_TERM_SYNC_HELD " СИНХРОНИЗАЦИЯ ОСТАНОВЛЕНА: %s\n"
#define AG_MSG_TERM_VISIT_OPEN " ИДЁТ ВИЗИТ: %s (с %s)\n"
#define AG_MSG_TERM_SYNCING "\nСИНХРОНИЗАЦИЯ…\n"
#define AG_MSG_TERM_SYNC_FAILED " Синхронизация не удалась: %s\n"
#define AG_MSG_TERM_SYNC_DONE " Синхронизация завершена: отправлено %llu, ждут %llu.\n"
#define AG_MSG_TERM_WAITING_FOR_CARD "(ожидание карты)"
#define AG_MSG_TERM_NO_CLOCK "Не удаётся прочитать часы терминала.\n"
#define AG_MSG_TERM_PLANS_HEAD "\nПЛАНОВЫЕ ВИЗИТЫ:\n"
#define AG_MSG_TERM_PLAN_ATTEMPTED " (уже приходили)"
#define AG_MSG_TERM_NO_PLANS " Нет визитов, которые можно начать. Обновите данные: пункт 8.\n"
#define AG_MSG_TERM_BACK "  0  Назад\n"
#define AG_MSG_TERM_ASK_PLAN "Номер визита:"
#define AG_MSG_TERM_TAP_CARD "ПРИЛОЖИТЕ КАРТУ ПОЛУЧАТЕЛЯ"
#define AG_MSG_TERM_GUARDIAN_CARD "\nКарта представителя. Для кого визит?\n"
#define AG_MSG_TERM_ASK_RECIPIENT_OR_CANCEL "Номер получателя (0 — отмена):"
#define AG_MSG_TERM_VISIT_STARTED "\nВИЗИТ НАЧАТ\n"
#define AG_MSG_TERM_ASK_SERVICES                                                                                       \
    "\nВведите номера оказанных услуг через пробел (например: 1 2*3),\n" \
    "или 0 — без услуг: "
#define AG_MSG_TERM_NOTHING_TO_RATE "\nНет завершённого визита без оценки.\n"
#define AG_MSG_TERM_RATE_HEAD                                                                      \
    "\n=== ОЦЕНИТЕ ВИЗИТ ===\n"                                                        \
    " 5 — отлично\n 4 — хорошо\n 3 — удовлетворительно\n 2 — плохо\n 1 — очень плохо\n"
#define AG_MSG_TERM_ASK_RATING "Нажмите цифру от 1 до 5:"
#define AG_MSG_TERM_ASK_COMMENT "\nКомментарий (Enter — без комментария): "
#define AG_MSG_TERM_RATED "\nСПАСИБО! Оценка %d записана.\n"
#define AG_MSG_TERM_NOT_UNDERSTOOD "Не понял. Введите номера из списка.\n"
#define AG_MSG_TERM_TAP_CARD_TO_END "ПРИЛОЖИТЕ КАРТУ ПОЛУЧАТЕЛЯ, ЧТОБЫ ЗАВЕРШИТЬ ВИЗИТ"
#define AG_MSG_TERM_VISIT_ENDED "\nВИЗИТ ЗАВЕРШЁН. Длительность: %s.\n"
#define AG_MSG_CARD_MISMATCH_WARNING                                                                                                               \
    "ВНИМАНИЕ: приложена не карта получателя. Визит записан, руководитель увидит " \
    "расхождение.\n"
#define AG_MSG_TERM_REASON_HEAD "\nПРИЧИНА:\n"
#define AG_MSG_TERM_ASK_REASON "Номер причины (0 — отмена):"
#define AG_MSG_TERM_CONFIRM_BY_CARD                                                                \
    "\nПолучатель может подтвердить картой.\n 1  Приложить карту\n 0  Без карты\n"
#define AG_MSG_TERM_ASK_CHOICE "Ваш выбор:"
#define AG_MSG_TERM_OTHER_CARD_CHOICE                                                                                                                   \
    "\n 1  Начать визит с этой картой (несовпадение будет записано)\n 0  Назад, ничего не " \
    "записывать\n"
#define AG_MSG_TERM_ATTEMPT_RECORDED "\nЗАПИСАНО: визит к %s не состоялся — %s.\n"
#define AG_MSG_TERM_CANCELLING_OPEN "\nОтменяется визит, который идёт сейчас.\n"
#define AG_MSG_TERM_WHO_CANCELLED "\nКТО ОТМЕНИЛ:\n 1  работник\n 2  получатель\n 3  организация\n"
#define AG_MSG_TERM_ASK_WHO "Номер (0 — назад):"
#define AG_MSG_TERM_VISIT_CANCELLED "\nВИЗИТ ОТМЕНЁН: %s.\n"
#define AG_MSG_TERM_BIND_HEAD "\nКОМУ ПРИВЯЗАТЬ КАРТУ:\n"
#define AG_MSG_TERM_ASK_RECIPIENT_OR_BACK "Номер получателя (0 — назад):"
#define AG_MSG_TERM_TAP_NEW_CARD "ПРИЛОЖИТЕ НОВУЮ КАРТУ"
#define AG_MSG_TERM_BINDING                                                                        \
    "\nКарта привязывается к получателю %s. Ждёт подтверждения руководителя.\n"
#define AG_MSG_TERM_BANNER                                                                         \
    "\n================================================\n"                                         \
    " CAREFACT — ТЕРМИНАЛ СОЦИАЛЬНОГО РАБОТНИКА\n"                   \
    "================================================\n"
#define AG_MSG_TERM_MENU                                                                           \
    "\n 1  Начать визит по плану\n"                                              \
    " 2  Начать визит без плана\n"                                              \
    " 3  Завершить визит\n"                                                          \
    " 4  Оценка визита\n"                                                              \
    " 5  Не застали / отказ у двери\n"                                         \
    " 6  Отменить визит\n"                                                            \
    " 7  Привязать карту\n"                                                          \
    " 8  Синхронизация\n"                                                             \
    " 9  Выезды бригады\n"                                                            \
    " 0  Выход\n"                                                                             \
    "\nНажмите цифру и Enter: "
#define AG_MSG_TERM_MENU_DIGIT "\nВведите цифру от 0 до 9.\n"
#define AG_MSG_TERM_GOODBYE "\nДо свидания.\n"
#define AG_MSG_TERM_SERVICE_REFUSED "(услуга %s)\n"

/* ==== Visit steps on the command line (cmd_visit.c) ==== */

#define AG_MSG_VISIT_EVENT_SAVED "Визит: %s (событие №%llu сохранено)\n"
#define AG_MSG_EVENT_SAVED "Событие №%llu сохранено.\n"
#define AG_MSG_CARD_BELONGS_TO "Карта принадлежит: %s\n"
#define AG_MSG_UNRECOGNIZED_SAVED                                                                                         \
    "Событие «карта не распознана» №%llu сохранено. Привязать карту: " \
    "carefact-agent card bind --recipient ID\n"
#define AG_MSG_CLI_TAP_CARD "Приложите карту получателя к терминалу…"
#define AG_MSG_VISIT_STARTED "ВИЗИТ НАЧАТ\n"
#define AG_MSG_CLI_TAP_CARD_TO_END "Приложите карту получателя, чтобы завершить визит…"
#define AG_MSG_VISIT_ENDED "ВИЗИТ ЗАВЕРШЁН: %s, длительность %s%s\n"
#define AG_MSG_VISIT_CLOCK_REBOOTED " (по часам терминала: была перезагрузка)"
#define AG_MSG_VISIT_SERVICE_LINE "  услуга %s × %d\n"
#define AG_MSG_VISIT_ASK_RATING                                                                    \
    "Попросите получателя оценить визит: carefact-agent visit rate --rating 1..5\n"
#define AG_MSG_VISIT_RATED "Спасибо! Оценка %ld записана.\n"
#define AG_MSG_VISIT_CANCELLED "ВИЗИТ ОТМЕНЁН: %s (отменил: %s)\n"
#define AG_MSG_VISIT_SINCE_START "С начала визита прошло %s.\n"
#define AG_MSG_CLI_TAP_CARD_TO_CONFIRM "Получатель подтверждает картой: приложите карту…"
#define AG_MSG_VISIT_ATTEMPT "ВИЗИТ НЕ СОСТОЯЛСЯ: %s — %s\n"
#define AG_MSG_ATTEMPT_CONFIRMED "Получатель подтвердил картой."
#define AG_MSG_ATTEMPT_MISMATCH "ВНИМАНИЕ: приложена не карта получателя."
#define AG_MSG_CLI_TAP_NEW_CARD "Приложите новую карту получателя…"
#define AG_MSG_BIND_CARD "Карта %s%s привязывается к получателю %s.\n"
#define AG_MSG_BIND_LAST_DIGITS "с последними цифрами "
#define AG_MSG_BIND_PENDING "Привязка ждёт подтверждения руководителя.\n"
#define AG_MSG_CLI_TAP_CHECK_IN "Посетитель отмечает приход: приложите карту…"
#define AG_MSG_CHECKED_IN "Приход отмечен картой %s%s.\n"
#define AG_MSG_CHECKED_IN_SYNC "Запись на приём отметится после синхронизации.\n"

/* ==== Acts recorded offline (cmd_acts.c) ==== */

#define AG_MSG_APPLICATION_FILED "Заявление записано (событие №%llu).\n"
#define AG_MSG_APPLICATION_RECEIPT                                                                                                                                 \
    "Квитанция: %s, код для проверки статуса: %s.\n"                                                                                 \
    "Передайте квитанцию и код заявителю: код показывается один раз. После синхронизации\n" \
    "статус можно узнать на сайте по квитанции и коду.\n"
#define AG_MSG_SURVEY_RECORDED "Акт обследования на дому записан (событие №%llu).\n"
#define AG_MSG_CLI_TAP_AID "Получатель подтверждает картой: приложите карту…"
#define AG_MSG_AID_CARD "Подтверждено картой %s%s.\n"
#define AG_MSG_AID_LAST_DIGITS "с последними цифрами "
#define AG_MSG_AID_HANDED_OVER "Выдача ТСР записана (событие №%llu).\n"
#define AG_MSG_AID_RETURNED "Возврат ТСР записан (событие №%llu).\n"
#define AG_MSG_ACT_SYNC "Акт уйдёт на сервер при синхронизации.\n"
#define AG_MSG_ANSWERS_RECORDED "Ответы на опрос записаны (событие №%llu).\n"
#define AG_MSG_ANSWER_FORMAT "--answer: укажите ответ как КОД=ЗНАЧЕНИЕ, например rating=5"
#define AG_MSG_ACT_FIELD_MISSING "%s — обязательное поле (%s)\n"
#define AG_MSG_ACT_FIELD_BAD "%s — неверное значение (%s)\n"
#define AG_MSG_ACT_NO_CLOCK                                                                        \
    "не удаётся прочитать часы терминала (CAREFACT_BOOT_ID должен быть UUID)"
#define AG_MSG_ACT_TARGET                                                                                                       \
    "укажите заявление: --application НОМЕР (например 2026-000123) или --filing N (номер " \
    "события подачи на этом терминале)"
#define AG_MSG_APPLY_NO_CONSENT                                                                                                                                          \
    "заявление не принимается без согласия на обработку персональных данных: прочитайте его " \
    "заявителю и укажите --consent"

/* ==== What the worker is shown about a recipient (visit_output.c) ==== */

#define AG_MSG_VIEW_RECIPIENT "Получатель: %s\n"
#define AG_MSG_VIEW_ADDRESS "Адрес: %s\n"
#define AG_MSG_VIEW_CERTIFICATE "Сертификат %s действует с %s по %s\n"
#define AG_MSG_VIEW_NO_NUMBER "(без номера)"
#define AG_MSG_VIEW_NO_CERTIFICATE                                                                 \
    "ВНИМАНИЕ: действующего сертификата нет — услуги не предусмотрены.\n"
#define AG_MSG_VIEW_AVAILABLE_HEAD "Можно оказать:\n"
#define AG_MSG_VIEW_NORM ", норма %d мин"
#define AG_MSG_VIEW_SERVICE_NUMBERED "  %zu — %s (%s%s): осталось %ld из %ld\n"
#define AG_MSG_VIEW_SERVICE "  %s — %s%s: осталось %ld из %ld\n"

/* ==== Lists of recipients and plans (cmd_lists.c) ==== */

#define AG_MSG_STATE_STARTED "идёт"
#define AG_MSG_STATE_ENDED "завершён, ждёт оценки"
#define AG_MSG_STATE_RATED "завершён"
#define AG_MSG_STATE_CANCELLED "отменён"
#define AG_MSG_STATE_ATTEMPT "не состоялся (попытка у двери)"
#define AG_MSG_STATE_PLANNED "запланирован"
#define AG_MSG_LIST_NOT_IN_REFERENCE "(нет в справочнике)"
#define AG_MSG_LIST_RECIPIENTS "Получатели в терминале: %zu\n"
#define AG_MSG_LIST_PLANS "Плановые визиты: %zu\n"
#define AG_MSG_LIST_PLAN_LINE "  %s %s  %s — %s\n     план %s\n"

/* ==== Mobile brigade trips (cmd_trip.c) ==== */

#define AG_MSG_TRIP_COUNT "Выезды бригады: %zu\n"
#define AG_MSG_TRIP_HEAD "\nВыезд %.2s.%.2s.%.4s — %s (%s)\n"
#define AG_MSG_TRIP_PLANNED "запланирован"
#define AG_MSG_TRIP_ANNOUNCED "объявлен"
#define AG_MSG_TRIP_OFFICE "  Организует: %s. %s\n"
#define AG_MSG_TRIP_SETTLEMENT "  Пункт %d: %s–%s %s%s%s%s\n"
#define AG_MSG_TRIP_APPOINTMENT "       %s %s, тел. %s — %s\n"
#define AG_MSG_TRIP_PARTNER "  Партнёр: %s%s%s\n"
#define AG_MSG_TRIP_KIND_SURVEY "обследование на дому"
#define AG_MSG_TRIP_KIND_AID "выдача средства реабилитации"
#define AG_MSG_TERM_TRIPS_UNREADABLE "\nВыезды бригады не прочитать из памяти терминала.\n"

/* ==== Reasons and who cancelled (cli.c) ==== */

#define AG_MSG_REASON_NOBODY_HOME "никого нет дома"
#define AG_MSG_REASON_REFUSED "получатель отказался"
#define AG_MSG_REASON_IN_HOSPITAL "получатель в больнице"
#define AG_MSG_REASON_WORKER_ILL "работник заболел"
#define AG_MSG_REASON_OTHER "другая причина"
#define AG_MSG_BY_WORKER "работник"
#define AG_MSG_BY_RECIPIENT "получатель"
#define AG_MSG_BY_PROVIDER "организация"

/* ==== Enrolment, sync and status (cmd_sync.c) ==== */

#define AG_MSG_WHEN_IN "через %s"
#define AG_MSG_WHEN_AGO "%s назад"
#define AG_MSG_ENROLL_CODE_REFUSED "Код регистрации не принят.\n"
#define AG_MSG_ENROLL_DONE                                                                             \
    "Терминал зарегистрирован: устройство %s, работник %s.\n" \
    "Загрузка справочников…\n"
#define AG_MSG_ENROLL_REFERENCE_FAILED                                                             \
    "Справочники не загружены: %s\nВыполните carefact-agent sync позже.\n"
#define AG_MSG_ENROLL_REFERENCE_LOADED "Справочники загружены: %zu %s.\n"
#define AG_MSG_RECORD_ONE "запись"
#define AG_MSG_RECORD_FEW "записи"
#define AG_MSG_RECORD_MANY "записей"
#define AG_MSG_SYNC_HELD "Автоматическая синхронизация остановлена до ручного запуска.\n"
#define AG_MSG_SYNC_NEXT_ATTEMPT "Следующая попытка %s.\n"
#define AG_MSG_SYNC_DONE "Синхронизация завершена.\n"
#define AG_MSG_SYNC_SENT_WAITING "Отправлено событий: %llu. Ожидают отправки: %llu.\n"
#define AG_MSG_SYNC_REUPLOADED                                                                     \
    "База сервера была восстановлена: события с №%llu отправлены заново.\n"
#define AG_MSG_SYNC_REFERENCE_COUNTS "Справочник: получено %zu, удалено %zu.\n"
#define AG_MSG_SYNC_REFERENCE_REFUSED                                                                                                              \
    "ВНИМАНИЕ: записей справочника отклонено: %zu (повреждены или слишком велики).\n" \
    "(%s)\n"
#define AG_MSG_CLOCK_SKEW "Часы терминала расходятся с сервером на %+lld с.\n"
#define AG_MSG_SYNC_NOT_DUE "Синхронизация не нужна сейчас: следующая попытка %s.\n"
#define AG_MSG_STATUS_NOT_ENROLLED "Терминал не зарегистрирован (carefact-agent enroll).\n"
#define AG_MSG_STATUS_TERMINAL "Терминал: %s, сервер %s\n"
#define AG_MSG_STATUS_WAITING "Ожидают отправки: %llu %s, самое старое — %s (в %s).\n"
#define AG_MSG_EVENT_ONE "событие"
#define AG_MSG_EVENT_FEW "события"
#define AG_MSG_EVENT_MANY "событий"
#define AG_MSG_STATUS_ALL_SENT "Все события отправлены и подтверждены сервером (%llu).\n"
#define AG_MSG_STATUS_NO_EVENTS "Событий пока нет.\n"
#define AG_MSG_STATUS_LAST_SYNC "Последняя успешная синхронизация: в %s (%s).\n"
#define AG_MSG_STATUS_NEVER_SYNCED "Успешной синхронизации ещё не было.\n"
#define AG_MSG_STATUS_SKEW_UNKNOWN "Расхождение часов с сервером пока неизвестно.\n"
#define AG_MSG_STATUS_LAST_FAILURE "Последняя попытка не удалась: %s\n"
#define AG_MSG_STATUS_REFERENCE "Справочник: получателей %ld, услуг %ld, плановых визитов %ld.\n"
#define AG_MSG_STATUS_VERIFIED "Хранилище проверено: цепочка событий цела (%llu).\n"
#define AG_MSG_STATUS_DAMAGED "ХРАНИЛИЩЕ ПОВРЕЖДЕНО: %s\n(%s)\n"

/* ==== Sync progress lines (sync.c) ==== */

#define AG_MSG_SYNC_RESTORED_PROGRESS                                                                                   \
    "База сервера восстановлена из резервной копии: события с №%llu " \
    "отправляются заново"
#define AG_MSG_SYNC_GAP_PROGRESS                                                                   \
    "Сервер хранит события только до №%llu: остальные отправляются заново"
#define AG_MSG_SYNC_SMALLER_BATCH_PROGRESS                                                         \
    "Сервер просит пакеты поменьше: событий в пакете теперь %zu"
#define AG_MSG_SYNC_SENT_PROGRESS "Отправлено событий: %llu из %llu"
#define AG_MSG_SYNC_REFERENCE_DIFF_PROGRESS "Справочник: удалено записей: %zu, загружается: %zu"
#define AG_MSG_SYNC_REFERENCE_PROGRESS "Справочник: получено %zu из %zu"
#define AG_MSG_SYNC_REFERENCE_SOME_REFUSED                                                              \
    "Часть записей справочника отклонена: они повреждены " \
    "или слишком велики."

/* ==== Durations (clock.c) ==== */

#define AG_MSG_DURATION_S "%s%lld с"
#define AG_MSG_DURATION_MIN "%s%lld мин"
#define AG_MSG_DURATION_H_MIN "%s%lld ч %02lld мин"
#define AG_MSG_DURATION_D_H "%s%lld дн %lld ч"

/* ==== A card read (card_output.c) ==== */

#define AG_MSG_CARD_SCHEME_MIR "Мир"
#define AG_MSG_CARD_BANK "банковская карта"
#define AG_MSG_CARD_VALID_UNTIL ", действует до %02d/%04d"
#define AG_MSG_CARD_READ_EMV "Карта прочитана: %s •••• %s%s.\nТокен карты: %s\n"
#define AG_MSG_CARD_READ_UID                                                                                                      \
    "Карта прочитана по номеру чипа (не банковская карта, подтверждение " \
    "слабее).\nТокен карты: %s\n"

#endif
