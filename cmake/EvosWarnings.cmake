# evos_warnings: an INTERFACE target every evos target links privately.
# -Wno-missing-field-initializers: designated initializers leave defaulted members out on purpose.
add_library(evos_warnings INTERFACE)
target_compile_options(evos_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wno-missing-field-initializers -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough -Wswitch-enum
  $<$<BOOL:${EVOS_WERROR}>:-Werror>)
