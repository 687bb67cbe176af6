// A process's anonymous resident memory (RssAnon in /proc/<pid>/status):
// its heap, malloc arenas and stacks, without the pages of files it maps.
// The capacity profile reads memory per link from it because VmRSS also
// counts the node binary's and libraries' file pages, which the kernel drops
// and faults back as other processes use the page cache: tens of MB of noise
// between two samples on a busy machine, against ~100 MB of links.
import fs from 'node:fs';

/** RssAnon of a process in bytes, or undefined (not Linux, or the process is gone). */
export function procAnonRssBytes(pid: number): number | undefined {
  try {
    const m = /^RssAnon:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
