#pragma once
#include <napi.h>

namespace netctl {

// Registers spawnAndWait and runProcess (see spawn.cc and src/native/addon.ts).
void InitSpawn(Napi::Env env, Napi::Object exports);

}  // namespace netctl
