/* The dashboard's pages, one line each: the name in the address (#/name), the module
 * whose `pages` object renders it, and the label in the navigation bar (none: reached
 * from another page). A new page is its module and one line here. */
export const PAGE_LIST = [
  { name: "today", module: "./overview.js", nav: "Сегодня" },
  { name: "visits", module: "./overview.js", nav: "Посещения" },
  { name: "visit", module: "./visit.js" },
  { name: "statement", module: "./visit.js" },
  { name: "workers", module: "./figures.js", nav: "Сотрудники" },
  { name: "exceptions", module: "./overview.js", nav: "Исключения" },
  { name: "ratings", module: "./figures.js", nav: "Оценки" },
  { name: "register", module: "./register.js", nav: "Реестр оплаты" },
  { name: "devices", module: "./devices.js", nav: "Терминалы" },
  { name: "webhooks", module: "./webhooks.js", nav: "Интеграции" },
  { name: "webhook", module: "./webhooks.js" },
];
