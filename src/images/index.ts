// Images: the built-in busybox root and imported root file systems.
export { BUILT_IN_IMAGE, type Image, ImageConflictError, ImageStore, type ImageStoreDeps, InvalidImageError, NoSuchImageError } from './image-store';
export { type ImageName, InvalidReferenceError, parseReference, tagged } from './reference';
