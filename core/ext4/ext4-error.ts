export class Ext4Error extends Error {
  override name = 'Ext4Error';
}
