#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the log makes, retried on EINTR and turned into `LogError.io`.
///
/// All data I/O is positional (`pread`/`pwrite`/`pwritev` at explicit offsets), so one descriptor per
/// file can be shared by the owning executor and by `sendfile` on other threads: nothing depends on a
/// file position.
enum FileIO {
    static func fail(_ operation: String, _ path: String) -> LogError {
        .io(operation: operation, path: path, errno: errno)
    }

    /// Opens `path` read-write (creating it with `create`, emptying it with `truncate`).
    static func open(_ path: String, create: Bool, truncate: Bool = false) throws(LogError) -> CInt {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if truncate { flags |= O_TRUNC }
        while true {
            let fd = path.withCString { posixOpen($0, flags, 0o644) }
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail("open", path) }
        }
    }

    static func exists(_ path: String) -> Bool {
        path.withCString { access($0, F_OK) } == 0
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    static func pread(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws(LogError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = posixPread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if errno != EINTR {
                throw fail("pread", path)
            }
        }
        return done
    }

    /// Writes all of `bytes` at `offset`.
    static func pwrite(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(LogError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = posixPwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n == 0 {
                throw LogError.io(operation: "pwrite (wrote nothing)", path: path, errno: 0)
            } else if errno != EINTR {
                throw fail("pwrite", path)
            }
        }
    }

    /// Writes all bytes of `vectors` at `offset`, in as few `pwritev` calls as the kernel allows
    /// (one, unless the write is short or there are more than IOV_MAX vectors). `vectors` is consumed:
    /// its entries are advanced past what was written.
    static func pwritev(_ fd: CInt, _ vectors: UnsafeMutableBufferPointer<iovec>, at offset: Int64, path: String) throws(LogError) {
        var first = 0
        var position = offset
        let maxVectors = 1024  // IOV_MAX on Linux and Darwin
        while first < vectors.count {
            let count = min(vectors.count - first, maxVectors)
            let n = posixPwritev(fd, vectors.baseAddress! + first, CInt(count), off_t(position))
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("pwritev", path)
            }
            if n == 0 { throw LogError.io(operation: "pwritev (wrote nothing)", path: path, errno: 0) }
            position += Int64(n)
            var written = n
            while written > 0 && first < vectors.count {
                let length = vectors[first].iov_len
                if written >= length {
                    written -= length
                    first += 1
                } else {
                    vectors[first].iov_base = vectors[first].iov_base.map { $0 + written }
                    vectors[first].iov_len = length - written
                    written = 0
                }
            }
            while first < vectors.count && vectors[first].iov_len == 0 { first += 1 }
        }
    }

    static func size(_ fd: CInt, path: String) throws(LogError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("fstat", path) }
        return Int(info.st_size)
    }

    /// Last modification time in milliseconds since the epoch.
    static func modificationTime(_ fd: CInt, path: String) throws(LogError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("fstat", path) }
        #if canImport(Darwin)
        let spec = info.st_mtimespec
        #else
        let spec = info.st_mtim
        #endif
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    static func truncate(_ fd: CInt, to size: Int, path: String) throws(LogError) {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw fail("ftruncate", path) }
        }
    }

    /// `fdatasync` where there is one: the data and the size, not the timestamps.
    static func syncData(_ fd: CInt, path: String) throws(LogError) {
        #if canImport(Glibc)
        while fdatasync(fd) != 0 {
            if errno != EINTR { throw fail("fdatasync", path) }
        }
        #else
        while fsync(fd) != 0 {
            if errno != EINTR { throw fail("fsync", path) }
        }
        #endif
    }

    static func sync(_ fd: CInt, path: String) throws(LogError) {
        while fsync(fd) != 0 {
            if errno != EINTR { throw fail("fsync", path) }
        }
    }

    /// fsyncs a directory, making the creation, renaming and removal of its entries durable.
    static func syncDirectory(_ path: String) throws(LogError) {
        let fd = path.withCString { posixOpen($0, O_RDONLY | O_CLOEXEC | O_DIRECTORY, 0) }
        guard fd >= 0 else { throw fail("open", path) }
        defer { posixClose(fd) }
        try sync(fd, path: path)
    }

    static func rename(_ from: String, _ to: String) throws(LogError) {
        let result = from.withCString { source in to.withCString { posixRename(source, $0) } }
        guard result == 0 else { throw fail("rename", from) }
    }

    /// Removes `path`; a missing file is not an error.
    static func unlink(_ path: String) throws(LogError) {
        guard path.withCString({ posixUnlink($0) }) == 0 || errno == ENOENT else { throw fail("unlink", path) }
    }

    static func removeDirectory(_ path: String) throws(LogError) {
        guard path.withCString({ rmdir($0) }) == 0 || errno == ENOENT else { throw fail("rmdir", path) }
    }

    /// Creates `path` and its missing parents; a relative path stays relative to the working directory.
    static func makeDirectories(_ path: String) throws(LogError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            if prefix.withCString({ mkdir($0, 0o755) }) != 0 && errno != EEXIST { throw fail("mkdir", prefix) }
        }
    }

    /// Names in `path`, without "." and "..".
    static func list(_ path: String) throws(LogError) -> [String] {
        guard let directory = path.withCString({ opendir($0) }) else { throw fail("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Writes `contents` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
    static func writeAtomically(_ contents: String, to path: String) throws(LogError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, create: true, truncate: true)
        do throws(LogError) {
            let bytes = Array(contents.utf8)
            var failure: LogError?
            bytes.withUnsafeBytes { buffer in
                do throws(LogError) { try pwrite(fd, buffer, at: 0, path: temporary) } catch { failure = error }
            }
            if let failure { throw failure }
            try sync(fd, path: temporary)
        } catch {
            posixClose(fd)
            throw error
        }
        posixClose(fd)
        try rename(temporary, path)
        try syncDirectory(parent(of: path))
    }

    /// The whole file as UTF-8 text, or nil if it does not exist.
    static func readText(_ path: String) throws(LogError) -> String? {
        let fd = path.withCString { posixOpen($0, O_RDONLY | O_CLOEXEC, 0) }
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw fail("open", path)
        }
        defer { posixClose(fd) }
        let size = try size(fd, path: path)
        var bytes = [UInt8](repeating: 0, count: size)
        var failure: LogError?
        let read = bytes.withUnsafeMutableBytes { buffer in
            do throws(LogError) { return try pread(fd, into: buffer, at: 0, path: path) } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        return String(decoding: bytes[..<read], as: UTF8.self)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

// The C calls under names that do not clash with the `FileIO` members above.
@inline(__always) func posixOpen(_ path: UnsafePointer<CChar>, _ flags: CInt, _ mode: mode_t) -> CInt { open(path, flags, mode) }
@inline(__always) func posixClose(_ fd: CInt) { _ = close(fd) }
@inline(__always) func posixPread(_ fd: CInt, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t) -> Int {
    pread(fd, buffer, count, offset)
}
@inline(__always) func posixPwrite(_ fd: CInt, _ buffer: UnsafeRawPointer, _ count: Int, _ offset: off_t) -> Int {
    pwrite(fd, buffer, count, offset)
}
@inline(__always) func posixPwritev(_ fd: CInt, _ vectors: UnsafePointer<iovec>, _ count: CInt, _ offset: off_t) -> Int {
    pwritev(fd, vectors, count, offset)
}
@inline(__always) func posixRename(_ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>) -> CInt { rename(from, to) }
@inline(__always) func posixUnlink(_ path: UnsafePointer<CChar>) -> CInt { unlink(path) }
