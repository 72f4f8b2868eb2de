/* Manager review API (issue 6): live visits, the exception queue and its
 * resolutions. Handlers over struct be_request, like visits.c. */
#ifndef BE_REVIEW_H
#define BE_REVIEW_H

#include "be/server.h"

void be_handle_live(struct be_request *req);
void be_handle_exception_list(struct be_request *req);
void be_handle_exception_resolve(struct be_request *req);

#endif
