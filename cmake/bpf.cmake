# bpf_object(NAME SRC DEPS...): compiles SRC with clang -target bpf (BTF on)
# into NAME.bpf.o and generates NAME.skel.h with bpftool; target NAME_skel
# carries the include directory of the skeleton.
find_program(CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

function(bpf_object name src)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CLANG} -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
            -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/maps
            -I${PROJECT_SOURCE_DIR}/bpf -I/usr/include/x86_64-linux-gnu
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${src} -o ${obj}
    DEPENDS ${src} ${ARGN}
    COMMENT "BPF ${name}")
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}")
  add_custom_target(${name}_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_gen)
  target_include_directories(${name}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
