// Errors thrown to JavaScript carry the errno name in `code`, like Node's own system errors,
// so the TypeScript layer can wrap them in typed errors without decoding numbers.
#pragma once
#include <napi.h>
#include <string>

namespace netctl {

const char* ErrnoName(int err);
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& detail);

}  // namespace netctl
