#pragma once
/// Files that hold secrets: private directories, atomic owner-only writes, bounded reads.
/// A crash at any point leaves either the old file or the new one, never a torn mix.

#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"

namespace certctl::crypto {

/// Creates `dir` and missing parents, and sets `dir` itself to mode 0700.
crypto_result<done> ensure_private_directory(const std::string& dir);

/// Replaces `path` atomically: writes a temp file in the same directory with `mode`, fsyncs it,
/// renames it over `path`, then fsyncs the directory so the rename survives a power cut.
crypto_result<done> write_file_atomic(const std::string& path, std::string_view data,
                                      unsigned mode = 0600);

/// Like write_file_atomic but never replaces: returns false (and writes nothing) when `path`
/// already exists. Uses link(2), so two racing creators cannot both win.
crypto_result<bool> create_file_exclusive(const std::string& path, std::string_view data,
                                          unsigned mode = 0600);

/// Whole file, refusing files larger than `max_size`.
crypto_result<std::string> read_file(const std::string& path, size_t max_size);

/// Removes `path` and fsyncs its directory; a missing file is not an error.
crypto_result<done> remove_file(const std::string& path);

/// fsyncs directory `dir`, which makes a completed create/rename/link/unlink in it durable.
crypto_result<done> sync_directory(const std::string& dir);

/// True when `path` exists (any type).
bool file_exists(const std::string& path);

}  // namespace certctl::crypto
