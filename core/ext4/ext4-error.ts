import { NixImagerError } from '../errors.ts';

export class Ext4Error extends NixImagerError {
  override name = 'Ext4Error';
  readonly code = 'image';
}
