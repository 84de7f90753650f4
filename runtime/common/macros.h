// Token pasting for the self-registration macros (unique static names per registration).
#pragma once

#define ONYX_CONCAT_INNER(a, b) a##b
#define ONYX_CONCAT(a, b) ONYX_CONCAT_INNER(a, b)
