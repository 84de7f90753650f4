/* A library built for a future ABI version: loading it must name both versions. */
#include "runtime/extensions/onyx_custom_op_abi.h"

static int register_ops(OnyxRegistration* registration, const OnyxRegistrationApi* api) {
  (void)registration;
  (void)api;
  return 0;
}

__attribute__((visibility("default"))) const OnyxCustomOpLibrary* onyx_custom_op_library(void) {
  static const OnyxCustomOpLibrary library = {ONYX_CUSTOM_OP_ABI_VERSION + 98, sizeof(OnyxCustomOpLibrary) + 16,
                                              "from the future", register_ops};
  return &library;
}
