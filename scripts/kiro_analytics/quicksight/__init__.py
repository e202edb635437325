"""QuickSight: definitions (shared with the local renderer, no boto3) and the deploy steps 7-9."""
