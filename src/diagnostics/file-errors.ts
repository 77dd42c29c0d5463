/**
 * What a failed file system call means, in the project's words: every reader of a path a user gave (rule files, YARA
 * rule paths, samples to scan, event files, workspace folders and table files) says why it could not read it with
 * this, beside the path it names itself (a diagnostic's `file`), instead of Node's own message
 * (`ENOENT: no such file or directory, stat 'nope.toml'`: the code, the system call, the path again).
 */
import { getSystemErrorMap } from "node:util";

/** The reasons users meet most, as the other messages of the project word them (folders, not directories). */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is not a folder",
  EISDIR: "a folder, not a file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many symbolic links (a loop)",
  ENAMETOOLONG: "the name is too long",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
};

/** A file system error: Node's errors of fs calls carry the system's error code and the call. */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && "syscall" in error;
}

/**
 * Why a file system call failed, without the system call or the path (the caller names the path): "no such file or
 * directory", "permission denied", …; another error code as the system describes it, with the code
 * ("i/o error (EIO)"). Any other error: its message's first line.
 */
export function fileSystemReason(error: unknown): string {
  if (isFileSystemError(error)) {
    const known = REASONS[error.code];
    if (known !== undefined) return known;
    const described = error.errno !== undefined ? getSystemErrorMap().get(error.errno)?.[1] : undefined;
    return `${described ?? "the file system refused it"} (${error.code})`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
