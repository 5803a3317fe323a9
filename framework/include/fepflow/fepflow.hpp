// Everything a stage or plugin author includes.
#pragma once

#include <fepflow/context.hpp>
#include <fepflow/random.hpp>
#include <fepflow/registry.hpp>
#include <fepflow/stage.hpp>
#include <fepflow/value.hpp>
#include <fepflow/version.hpp>
