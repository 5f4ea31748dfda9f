# Re-exports Bazel's native Java rules so @bazel_tools//tools/jdk parses offline.
# Gatehouse has no Java code; nothing here is ever built.
java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_runtime = native.java_runtime
java_toolchain = native.java_toolchain
java_test = native.java_test
java_plugin = native.java_plugin
