import { opfsDir } from '../worker/opfs.ts';

/** The finished image the worker left in OPFS `nix-imager/outputs/` (a File backed by disk, not memory). */
export async function outputFile(name: string): Promise<File> {
  return (await (await opfsDir('outputs')).getFileHandle(name)).getFile();
}

/**
 * Hands `blob` to the browser's download manager. The URL must outlive the click: revoking it at
 * once can cancel the download before it starts, so it is revoked a minute later.
 */
export function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

interface SavePicker {
  showSaveFilePicker(opts: { suggestedName: string }): Promise<FileSystemFileHandle>;
}

export function canSaveAs(): boolean {
  return typeof (window as unknown as Partial<SavePicker>).showSaveFilePicker === 'function';
}

/** Asks where the image should go; null when the user cancels the picker. */
export async function pickFile(name: string): Promise<FileSystemFileHandle | null> {
  try {
    return await (window as unknown as SavePicker).showSaveFilePicker({ suggestedName: name });
  } catch (e) {
    if ((e as DOMException).name === 'AbortError') return null;
    throw e;
  }
}

/** "Save to…": streams the file to a place the user picks (needs the click's user activation). */
export async function saveAs(file: File, name: string): Promise<boolean> {
  const handle = await pickFile(name);
  if (handle === null) return false;
  await file.stream().pipeTo(await handle.createWritable());
  return true;
}
