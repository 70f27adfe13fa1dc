"""Pure queries the editor asks: completion, navigation, rename, fixes, previews, outlines."""
