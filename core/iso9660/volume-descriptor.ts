import { be32, both16, both32, le32, putBytes, putLongDate, putPadded, putUcs2Padded, SECTOR } from './both-endian.ts';

/** Fields shared by the primary (ISO 9660) and the supplementary (Joliet) volume descriptor. */
export interface VolumeFields {
  volumeID: string;
  publisher: string;
  appID: string;
  epoch: number;
  volumeSectors: number;
  pathTableSize: number;
  lPathTableLba: number;
  mPathTableLba: number;
  rootRecord: Uint8Array;
}

function header(type: number): Uint8Array {
  const vd = new Uint8Array(SECTOR);
  vd[0] = type;
  putBytes(vd, 1, 'CD001');
  vd[6] = 1;
  return vd;
}

function volumeDescriptor(type: 1 | 2, f: VolumeFields): Uint8Array {
  const vd = header(type);
  const joliet = type === 2;
  // Text fields: a-characters in the primary (upper case, as xorriso writes them), UCS-2 in Joliet.
  const text = (at: number, width: number, s: string, upper: boolean) =>
    joliet ? putUcs2Padded(vd, at, width, s) : putPadded(vd, at, width, upper ? s.toUpperCase() : s);
  text(8, 32, '', false);
  // The volume ID is kept as given: NixOS finds its ISO by this label (root=LABEL=…).
  text(40, 32, f.volumeID, false);
  both32(vd, 80, f.volumeSectors);
  if (joliet) putBytes(vd, 88, '%/E');
  both16(vd, 120, 1);
  both16(vd, 124, 1);
  both16(vd, 128, SECTOR);
  both32(vd, 132, f.pathTableSize);
  le32(vd, 140, f.lPathTableLba);
  be32(vd, 148, f.mPathTableLba);
  vd.set(f.rootRecord, 156);
  text(190, 128, '', false);
  text(318, 128, f.publisher, true);
  text(446, 128, '', false);
  text(574, 128, f.appID, true);
  text(702, 37, '', false);
  text(739, 37, '', false);
  text(776, 37, '', false);
  putLongDate(vd, 813, f.epoch);
  putLongDate(vd, 830, f.epoch);
  putLongDate(vd, 847, undefined);
  putLongDate(vd, 864, undefined);
  vd[881] = 1;
  if (!joliet) vd.fill(0x20, 883, 883 + 512);
  return vd;
}

export function primaryVolumeDescriptor(f: VolumeFields): Uint8Array {
  return volumeDescriptor(1, f);
}

export function jolietVolumeDescriptor(f: VolumeFields): Uint8Array {
  return volumeDescriptor(2, f);
}

/** El Torito boot record (type 0), pointing at the boot catalog. */
export function bootRecordDescriptor(catalogLba: number): Uint8Array {
  const vd = header(0);
  putBytes(vd, 7, 'EL TORITO SPECIFICATION');
  le32(vd, 71, catalogLba);
  return vd;
}

export function terminatorDescriptor(): Uint8Array {
  return header(255);
}
