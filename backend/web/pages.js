/* The dashboard's pages, one line each: the name in the address (#/name), the module
 * whose `pages` object renders it, the label in the navigation bar (none: reached from
 * another page) and the roles whose bar shows it (none: the provider's people and the
 * department — manager, authority, admin, worker). A new page is its module and one line
 * here. */
const STAFF = ["intake", "intake_lead", "caseworker", "authority", "admin"];
export const PAGE_LIST = [
  { name: "applications", module: "./applications.js", nav: "Заявления", roles: STAFF },
  { name: "application", module: "./applications.js", roles: STAFF },
  { name: "application-new", module: "./applications.js", roles: STAFF },
  { name: "applications-funnel", module: "./applications.js", nav: "Воронка", roles: STAFF },
  { name: "programmes", module: "./applications.js", nav: "Программы", roles: ["manager", "authority", "admin"] },
  { name: "desk-day", module: "./desk.js", nav: "Приём: день", roles: ["intake", "intake_lead", "authority", "admin"] },
  { name: "office-booking", module: "./offices.js", nav: "Запись: настройки", roles: ["intake_lead", "authority", "admin"] },
  { name: "trips", module: "./brigades.js", nav: "Выездные бригады", roles: [...STAFF, "manager"] },
  { name: "trip", module: "./brigades.js", roles: [...STAFF, "manager"] },
  { name: "trip-form", module: "./brigades.js", roles: ["intake_lead", "admin"] },
  { name: "today", module: "./overview.js", nav: "Сегодня" },
  { name: "visits", module: "./overview.js", nav: "Посещения" },
  { name: "visit", module: "./visit.js" },
  { name: "statement", module: "./visit.js" },
  { name: "workers", module: "./figures.js", nav: "Сотрудники" },
  { name: "exceptions", module: "./overview.js", nav: "Исключения" },
  { name: "ratings", module: "./figures.js", nav: "Оценки" },
  { name: "satisfaction", module: "./satisfaction.js", nav: "Удовлетворённость", roles: ["manager", "authority", "admin"] },
  { name: "followups", module: "./satisfaction.js", roles: ["authority", "admin"] },
  { name: "complaints", module: "./complaints.js", nav: "Жалобы", roles: ["manager", "authority", "admin"] },
  { name: "register", module: "./register.js", nav: "Реестр оплаты" },
  { name: "devices", module: "./devices.js", nav: "Терминалы" },
  { name: "webhooks", module: "./webhooks.js", nav: "Интеграции" },
  { name: "webhook", module: "./webhooks.js" },
];
