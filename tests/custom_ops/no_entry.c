/* A library that looks like an onnxruntime custom-op library: it exports RegisterCustomOps but
 * not onyx's entry symbol. Loading it must say which symbol was looked for and which it has. */
#define EXPORT __attribute__((visibility("default")))

EXPORT int RegisterCustomOps(void* options, const void* api) {
  (void)options;
  (void)api;
  return 0;
}
